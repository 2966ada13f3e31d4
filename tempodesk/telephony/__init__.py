"""Phone (and, beside it, SMS): calls through a PBX behind one interface (``pbx``: Asterisk
AMI in ``ami`` or a cloud PBX's HTTP CTI in ``cti``), one vocabulary of call events
(``events``), calls started at most once and what the PBX's events change (``calls``),
communication records on contacts (``records``), and the stand-in PBXs of `make dev` and the
tests (``standin``, ``cti_standin``). The providers' side effects run as activities on the
telephony task queue (``activities.telephony``).
"""
