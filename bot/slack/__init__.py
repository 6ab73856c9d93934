"""The Slack surface: the Bolt app (:mod:`.app`), one listener module per surface
(:mod:`.listeners`), pure Block Kit builders (:mod:`.views`), and the only place button
values and ``private_metadata`` are read (:mod:`.payloads`)."""
