"""Room for the customer portal (issue: customers follow and answer their requests)."""
