"""The capacity and cost simulation, fed by the harness's results (``make capacity``)."""
