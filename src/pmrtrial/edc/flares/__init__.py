"""Flare assessments: one ``flare`` record per assessment (key ``FL-n``), judged by Dejaco 2011."""
