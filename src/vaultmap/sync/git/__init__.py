"""The git remote: shared plumbing (:mod:`.repo`), the task-aware merge of one note
(:mod:`.merge`), the merge driver git calls (:mod:`.driver`) and its installation
(:mod:`.install`)."""
