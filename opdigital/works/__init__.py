"""The works in the open: a selected proposal's execution (milestones, money, photos), the
Comforça's monitoring reports, and the public list of every work the programme chose."""
