"""Malls and stores near a shopper: nearby lists, the current mall, store home pages, follows, mall mode."""
