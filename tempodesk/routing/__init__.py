"""Routing: the admins' rules that send each new ticket to a queue (``rules``, pure), how a
group hands out its tickets (``strategies``, pure), and the data both read and admins edit
(``store``: rules, groups' strategies, agents' availability and skills; ``opening``: the
decision of a ticket's opening step, in its transaction).
"""
