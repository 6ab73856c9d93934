"""Retrieval: encoding text (:mod:`.embeddings`), per-team FAISS indexes (:mod:`.index`),
ranking and diversity (:mod:`.ranking`), and the emotion head read from the same pass
(:mod:`.emotion`). Pure computation over vectors; no SQL."""
