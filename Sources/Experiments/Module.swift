public enum ExperimentsModule {}
