// Two cores: the server trains trials on them, so browser tests never run side by side.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
