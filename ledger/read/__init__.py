"""The read side: queries that walk session refs, and the disposable index that speeds them."""
