"""The parts of the scenario builder, one per concern, each building its part of the model.

`engine/scenario.py` runs them in order over a document the schema has passed: the account and
functions (`functions.py`, with their code's model in `behaviour.py` and their policies in
`permissions.py`), the queues, topics, buses and streams (`sources.py`), the event source
mappings (`mappings.py`), CloudFront's triggers (`edge.py`), the traffic (`traffic.py`) and the
expectations (`expectations.py`). They share one `context.Context`, so every problem is collected
with its file:line:column and the author fixes them all in one go.
"""
