import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import explain as pg_explain


@pytest.mark.parametrize(
    "statement, keyword",
    [
        ("SELECT 1", "select"),
        ("  -- comment\n /* block */ with x as (select 1) select * from x", "with"),
        ("(SELECT 1) UNION (SELECT 2)", "select"),
        ("delete from t", "delete"),
        ("", ""),
    ],
)
def test_first_keyword(statement, keyword):
    assert pg_explain.first_keyword(statement) == keyword


def test_hot_spots_rank_by_exclusive_time_and_flag_issues():
    plan = {"Plan": {"Node Type": "Aggregate", "Actual Total Time": 10.0, "Actual Loops": 1, "Plan Rows": 1,
                     "Actual Rows": 1, "Plans": [
                         {"Node Type": "Seq Scan", "Relation Name": "t", "Actual Total Time": 9.0, "Actual Loops": 1,
                          "Plan Rows": 5, "Actual Rows": 500, "Rows Removed by Filter": 99500, "Filter": "(k = 5)"}]}}
    spots = pg_explain.hot_spots(plan, 5)
    assert [(s["node_type"], s["exclusive_ms"], s["share_pct"]) for s in spots] == [
        ("Seq Scan", 9.0, 90.0), ("Aggregate", 1.0, 10.0)]
    assert len(spots[0]["issues"]) == 2  # filter discards rows, and the estimate is 100x off
