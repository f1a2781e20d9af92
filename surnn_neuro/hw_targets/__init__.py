"""hw_targets"""
