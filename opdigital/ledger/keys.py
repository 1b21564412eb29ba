"""The tally's Ed25519 signing key: the key file, its public half, its fingerprint.

The private key lives in a PEM file (PKCS8, unencrypted: the server must sign without a person
typing a passphrase), so the file's permissions are its protection. It is created with mode
0600 in one step (never readable by others, even for an instant) and `load_private_key` refuses
a key file that group or others can read or write, as OpenSSH does, unless told otherwise.

The public key is published as raw 32 bytes in base64 (and as PEM); its fingerprint is the
SHA-256 of those 32 bytes in lowercase hex. Standard library and `cryptography` only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64


class KeyFileError(ValueError):
    """A key file or key text cannot be used (missing, wrong type, unsafe permissions...)."""


def _make_private_dirs(directory: Path) -> None:
    """Create the missing directories of `directory`, each 0700; existing ones are left as is."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700)
        path.chmod(0o700)  # mkdir's mode is filtered by the umask; state it exactly


def _write_new(path: Path, data: bytes) -> None:
    """Write `data` to a file that must not exist yet, created 0600 from the start."""
    # O_EXCL: fails if anything (a symlink included) is already there, so no one can make us
    # write the key through a link they planted.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask can only remove bits; this makes the mode exact
        with os.fdopen(fd, "wb", closefd=False) as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    finally:
        os.close(fd)


def generate_key_file(path: str | os.PathLike[str], *, overwrite: bool = False) -> str:
    """Create a new Ed25519 key at `path` (PEM, mode 0600); returns its public fingerprint.

    Refuses (KeyFileError) to replace an existing file unless `overwrite`; even then the new
    key is written to a fresh 0600 file beside it and moved into place, so the old file's
    permissions never carry over and a crash never leaves half a key.
    """
    target = Path(path)
    _make_private_dirs(target.parent)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    if not overwrite:
        try:
            _write_new(target, pem)
        except FileExistsError:
            raise KeyFileError(
                f"{target} already exists; refusing to replace a signing key"
            ) from None
    else:
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
        try:
            _write_new(temporary, pem)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
    return fingerprint(public_key_raw(key))


def load_private_key(
    path: str | os.PathLike[str], *, allow_insecure_mode: bool = False
) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file at `path`.

    Refuses a file that group or others may read or write (POSIX only) unless
    `allow_insecure_mode`: a signing key others can read can sign a forged tally.
    """
    source = Path(path)
    try:
        mode = stat.S_IMODE(source.stat().st_mode)
        data = source.read_bytes()
    except OSError as e:
        raise KeyFileError(f"cannot read the key file {source}: {e.strerror}") from None
    if os.name == "posix" and mode & 0o077 and not allow_insecure_mode:
        raise KeyFileError(
            f"{source} has mode {mode:04o}: group or others may read it; "
            f"run `chmod 600 {source}` (a signing key others can read can sign a forged tally)"
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise KeyFileError(f"{source} is not an unencrypted PEM private key (PKCS8)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{source} holds a key of another type; the tally needs Ed25519")
    return key


def public_key_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of the public key (of a private key, or of a public key itself)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public_raw: bytes) -> str:
    """SHA-256 of the raw 32-byte public key, lowercase hex: what the city publishes."""
    if len(public_raw) != PUBLIC_KEY_SIZE:
        raise KeyFileError(f"an Ed25519 public key has {PUBLIC_KEY_SIZE} bytes")
    return hashlib.sha256(public_raw).hexdigest()


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public key as PEM (SubjectPublicKeyInfo), for publishing beside the base64 form."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def public_key_base64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw public key in standard base64, as SHA256SUMS.sig embeds it."""
    return base64.b64encode(public_key_raw(key)).decode("ascii")


def parse_public_key(text: str | bytes) -> bytes:
    """Raw public key bytes from PEM (SubjectPublicKeyInfo) or base64 of the raw 32 bytes."""
    data = text.encode("ascii", "replace") if isinstance(text, str) else text
    if b"-----BEGIN" in data:
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, UnsupportedAlgorithm):
            raise KeyFileError("not a PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise KeyFileError("the PEM public key is not an Ed25519 key")
        return public_key_raw(key)
    try:
        raw = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError("not base64 of a raw Ed25519 public key, nor PEM") from None
    if len(raw) != PUBLIC_KEY_SIZE:
        raise KeyFileError(f"a raw Ed25519 public key has {PUBLIC_KEY_SIZE} bytes, not {len(raw)}")
    return raw


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    """The 64-byte Ed25519 signature of `data`."""
    return key.sign(data)


def signature_holds(public_raw: bytes, signature: bytes, data: bytes) -> bool:
    """True when `signature` is the Ed25519 signature of `data` by the key `public_raw`."""
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True
