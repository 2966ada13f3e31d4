"""What Tempodesk says to people: email and SMS templates rendered in a Jinja2 sandbox, and
agents' canned answers.
"""
