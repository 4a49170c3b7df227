"""The suite's grouping (tests/suite_areas.py): every test module has an area, the areas and ``slow``
are registered markers, and ``slow`` names only modules that exist."""

from pathlib import Path

from suite_areas import AREA_OF, AREAS, SLOW

MODULES = {path.stem for path in Path(__file__).parent.glob("test_*.py")}


def test_every_test_module_has_one_area():
    assert sorted(MODULES - set(AREA_OF)) == [], "add the module to an area of AREAS in tests/suite_areas.py"
    listed = [module for modules in AREAS.values() for module in modules]
    assert len(listed) == len(set(listed)), "a module is in two areas"


def test_slow_names_existing_modules():
    assert sorted(SLOW - MODULES) == []


def test_areas_and_slow_are_registered_markers(pytestconfig):
    registered = {line.split(":")[0] for line in pytestconfig.getini("markers")}
    assert set(AREAS) | {"slow"} <= registered


def test_markers_select_by_area_and_speed(request):
    marks = {mark.name for mark in request.node.iter_markers()}
    assert "docs" in marks and "slow" not in marks
