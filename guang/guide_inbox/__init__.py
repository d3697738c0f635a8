"""The guide inbox: live alerts to staff (导购) when one of their clients arrives, by face or location."""
