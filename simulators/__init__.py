"""Local stand-ins for the services ApexAPI and the tracker talk to, faithful to the facts in
docs/: the Apex Trading API (``simulators.apex``) and the Google Sheets API
(``simulators.sheets``). ``make demo``, the benchmarks and the tests all use them: in-process
(``create_*_app`` served by :class:`simulators.serve.ServerThread`) or as programs
(``python -m simulators.apex``, ``python -m simulators.sheets``)."""
