"""Data: the SEN2 statistics, drafting a configuration from them, and calibration."""
