"""What a cell is and what it records: profiles, tasks, data splits, the search space,
model building, records."""
