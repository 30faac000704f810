"""Batch settlement: fill encoding, Merkle trees and the batch submitter."""
