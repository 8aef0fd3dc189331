"""Tests that pin the numbers each chapter states (a package, so that test_autodiff.py here and in tests/ can coexist)."""
