"""Use cases, one small class or module per job. They own their transactions, call
``store.queries`` for every SQL statement, and never import Slack (``slack_bolt``/
``slack_sdk``): the same use case serves Slack, the CLI and the scheduler.

=============  ==========================================================================
capture        Capture.save: one quote from Slack (reaction, shortcut) or ``/voice save``
imports        Importer.import_quotes: parsed rows in committed batches (RowProblem, summary)
reimport       which stored quote a re-imported row is (a corrected file updates, not adds)
import_log     ImportLog: the record of imports (begin/finish), their list and undo
importing      reading CSV/JSONL files into rows (no database)
quote_columns  a quote's columns in a file, shared by export and import (CSV cell guard)
export         Exporter: every quote of a workspace as export rows
edits          Edits: message edited, keep as saved, attribution details, made private
deletion       Deletion: delete, deleted message, forget a person (find_person), purge
lookup         Lookup: a quote by id, literal text search, the workspaces, counts
usage          Usage.record_use: quotes shown or shared
stats          workspace_stats: App Home counts
indexing       IndexLoader (start-up load, re-embed) and IndexSync (replicas follow)
vectors        shared: Encoder (embedder + emotion head), NewVectors (index + voice links)
search         SearchService: ``/voice`` and @mention answers
query          parsing ``/voice`` topics and filters
digest         DigestService.build: the weekly digest's content
workspaces     WorkspaceService: per-workspace settings, cached
pending        PendingTexts: the message shortcut's text between form and submission
listening      Listening: channels where external members' messages are kept, announced once
substance      has_content: the measured rule that skips content-free messages
=============  ==========================================================================
"""
