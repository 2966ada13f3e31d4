"""Personal data under the GDPR: what Tempodesk holds about a person (``subjects``), exporting
it (``export``), forgetting it (``forget``: delete or anonymise) and the retention rule for
closed tickets (``retention``). Deleting the workflows' histories in Temporal is the caller's
half (the CLI through the facade, the retention activity through the worker's client): each
function here says which workflow ids to delete.
"""
