from lenslog.config import parse_config
from lenslog.retention import days_for, lifecycle_configuration, lifecycle_days

CONFIG = parse_config(
    {
        "cells": {"eu": {"region": "eu-central-1", "retention_days": 365}, "us": {"region": "us-east-1"}},
        "defaults": {"quarantine_retention_days": 30},
        "sources": {
            "long": {"cell": "eu", "policy": {"retention_days": 1000, "quarantine_retention_days": 60}},
            "plain": {"cell": "eu"},
        },
    }
)


def test_the_source_override_wins_then_the_cell_then_the_defaults():
    assert days_for(CONFIG, "eu", "long", "curated") == 1000
    assert days_for(CONFIG, "eu", "plain", "curated") == 365
    assert days_for(CONFIG, "us", "plain", "curated") is None  # keep forever
    assert days_for(CONFIG, "eu", "long", "quarantine") == 60
    assert days_for(CONFIG, "us", None, "quarantine") == 30


def test_each_distinct_retention_gets_one_tag_filtered_rule():
    assert lifecycle_days(CONFIG, "eu", "curated") == [365, 1000]
    assert lifecycle_days(CONFIG, "us", "curated") == [1000]
    [rule30, rule60] = lifecycle_configuration(CONFIG, "us", "quarantine")
    assert rule30["Filter"] == {"Tag": {"Key": "lenslog-retention", "Value": "30d"}}
    assert rule30["Expiration"] == {"Days": 30} and rule60["Expiration"] == {"Days": 60}
