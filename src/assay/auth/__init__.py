"""Authorization: who is acting (Actor) and the one policy that decides what they may do."""
