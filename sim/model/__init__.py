"""The model: the domain processes of one replication (requests, assessments, plans and
reviews, the workforce and the teams) and the monthly measures they count."""
