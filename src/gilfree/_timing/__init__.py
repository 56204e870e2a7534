"""The measuring core shared by the bench and the probe.

``gilfree bench`` and ``gilfree probe`` measure the same way and take their
options the same way: what both need lives here once, and each command keeps
only what is its own.
"""
