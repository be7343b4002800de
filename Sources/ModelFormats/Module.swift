public enum ModelFormatsModule {}
