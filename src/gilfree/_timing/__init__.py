"""The measuring core shared by the bench and the probe.

What every tool that times code gilfree has not written needs in the same
form: how a report file is checked and written (:mod:`._files`: the path is
checked before anything is measured, the file is written to a temporary
name beside it and renamed, so an error or Ctrl-C never leaves half a
report), how two results of a function are compared and how much memory
kept results take (:mod:`._results`), and how long a wait on a call in
another thread or process may last (:mod:`._watch`); the option types and
the interrupt handling both commands share (:mod:`._cli`).  ``_results`` and
``_watch`` use the standard library only: the probe loads them by file path
under other interpreters.
"""
