"""The write side: the logger API and the entry → commit path."""
