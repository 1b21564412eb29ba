"""What a text message means to the phone dialogue, and how long replies are cut (words.py)."""

from __future__ import annotations

import pytest

from opdigital.phone import dialogue
from opdigital.phone.words import MESSAGE_CHARS, START, STOP, meaning, messages, normalised


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Não  ", "nao"),
        ("PRÓXIMA", "proxima"),
        ("Olá,   tudo\tbem?", "ola, tudo bem?"),
        ("ＳＩＭ", "sim"),  # full-width letters, as some keyboards send them
        ("", ""),
    ],
)
def test_normalised(text, expected):
    assert normalised(text) == expected


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("123.456.789-012", "123456789012"),
        ("1234 5678 0201", "123456780201"),
        ("05/03/1980", "05031980"),
        ("0503 1980", "05031980"),
        ("05-03-1980", "05031980"),
        ("5/3/1980", "05031980"),  # one-digit day and month padded, as DDMMAAAA wants
        ("17.5.1980", "17051980"),
        (" 1 ", "1"),
        ("1#", "1"),  # the keypad habit
        ("0", "0"),
    ],
)
def test_digits_with_separators_are_the_digits(text, keys):
    assert meaning(text).keys == keys


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("SIM", dialogue.CHOOSE),
        ("sim!", dialogue.CHOOSE),
        ("Escolher", dialogue.CHOOSE),
        ("confirmar", dialogue.CONFIRM),
        ("yes", dialogue.CHOOSE),
        ("choose", dialogue.CHOOSE),
        ("NÃO", dialogue.NEXT),
        ("nao", dialogue.NEXT),
        ("Próxima", dialogue.NEXT),
        ("proximo", dialogue.NEXT),
        ("mudar", dialogue.CHANGE),
        ("ALTERAR", dialogue.CHANGE),
        ("next", dialogue.NEXT),
        ("no", dialogue.NEXT),
        ("Voltar.", dialogue.BACK),
        ("anterior", dialogue.BACK),
        ("back", dialogue.BACK),
        ("pular", dialogue.SKIP),
        ("SKIP", dialogue.SKIP),
        ("repetir", dialogue.REPEAT),
        ("repeat", dialogue.REPEAT),
        ("Resumo", dialogue.SUMMARY),
        ("fim", dialogue.SUMMARY),
        ("escolhas", dialogue.SUMMARY),
        ("summary", dialogue.SUMMARY),
        ("#", dialogue.SUMMARY),
        ("*", dialogue.SLOWER),
    ],
)
def test_words_are_keys(text, key):
    said = meaning(text)
    assert (said.keys, said.stop, said.start) == (key, False, False)


@pytest.mark.parametrize("text", ["SAIR", "parar", "Cancelar", "STOP", " stop. "])
def test_stop_words(text):
    assert meaning(text) == STOP


@pytest.mark.parametrize("text", ["VOTAR", "oi", "Olá", "ola!", "vote", "hello"])
def test_start_words(text):
    assert meaning(text) == START


@pytest.mark.parametrize("text", ["banana", "nao sei", "sim sim", "1a", "12 abc"])
def test_anything_else_goes_to_the_dialogue_as_it_is(text):
    # The dialogue answers "I did not understand" to keys it does not know.
    said = meaning(text)
    assert said.keys == normalised(text) and not said.stop and not said.start


def test_an_empty_message_has_no_keys():
    assert meaning("   ").keys == ""


def test_short_replies_are_one_message_one_sentence_a_line():
    assert messages(["Olá!", "Envie os 12 dígitos."]) == ["Olá!\nEnvie os 12 dígitos."]


def test_long_replies_are_cut_between_sentences():
    sentences = [f"Obra {n}: " + "x" * 300 + "." for n in range(1, 8)]
    cut = messages(sentences)
    assert len(cut) > 1
    assert all(len(message) <= MESSAGE_CHARS for message in cut)
    # Every sentence whole in one message, in order.
    assert [line for message in cut for line in message.split("\n")] == sentences


def test_a_sentence_longer_than_a_message_is_cut_between_words():
    sentence = " ".join(["palavra"] * 400)
    cut = messages(["Antes.", sentence], limit=100)
    assert all(len(message) <= 100 for message in cut)
    assert " ".join(" ".join(cut).split()) == f"Antes. {sentence}"


def test_a_word_longer_than_a_message_is_cut_too():
    cut = messages(["y" * 250], limit=100)
    assert cut == ["y" * 100, "y" * 100, "y" * 50]
