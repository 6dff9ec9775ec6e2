"""Channel providers: one module each, all behind ``base.Provider``."""
