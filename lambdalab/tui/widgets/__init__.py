"""Reusable widgets: one module each, styled from lambdalab.tcss."""
