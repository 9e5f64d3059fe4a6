"""Local stand-ins for the services ApexAPI and the tracker talk to, faithful to the facts in
docs/: the Apex Trading API (``simulators.apex``), the Google Sheets API (``simulators.sheets``)
and METRC's v2 API (``simulators.metrc``, docs/metrc.md). ``make demo``, the benchmarks and the
tests all use them: in-process (``create_*_app`` served by
:class:`simulators.serve.ServerThread`) or as programs (``python -m simulators.apex``,
``python -m simulators.sheets``, ``python -m simulators.metrc``)."""
