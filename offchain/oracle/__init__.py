"""Median price oracle off-chain side: reference maths, report signing, price feeds, reporter, submitter."""
