"""Trust: secret redaction, signing, checkpoints and verification."""
