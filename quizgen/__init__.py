"""quizgen: curated, sourced YAML facts -> Anki decks and printable quizzes."""

__version__ = "0.1.0"
