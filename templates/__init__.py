"""Jinja2 templates and CSS, shipped inside the wheel as quizgen.templates."""
