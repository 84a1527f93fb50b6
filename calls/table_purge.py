"""Deletes a Table storage table's rows of days past the retention period (the retention timer's table step).

The owners of each table (calls/call_index.py, calls/outbound_rate_limit.py) hand over their client; this
only queries keys and deletes, so the rows' content never passes through here.
"""

from __future__ import annotations

from datetime import datetime

from azure.data.tables import TableClient

from shared.retention import expired_partitions_query

# Deleted one by one: a batch (entity group transaction) holds one partition and at most 100 operations, and a
# daily run deletes about one day of rows, so single deletes keep this simple at no real cost.
_PAGE = 1000


def delete_rows_before(table: TableClient, cutoff: datetime) -> int:
    """Delete every row of a day before the cutoff's day; the number deleted. A missing table holds nothing."""
    query, parameters = expired_partitions_query(cutoff)
    keys = [(str(entity["PartitionKey"]), str(entity["RowKey"])) for entity in
            table.query_entities(query, parameters=parameters, select=["PartitionKey", "RowKey"],
                                 results_per_page=_PAGE)]
    for partition, row in keys:
        table.delete_entity(partition, row)  # no error when another run deleted it first (Table delete is 204/404)
    return len(keys)

