"""The ledger recording rule (workflows.provenance) on each shape R1 answers in:
a tag is read from a dict, a model field or an undeclared (extra) field, and only a
whole-token tag of this job counts; a found untaggable resource is "reused" only on
the cell's first try."""

from __future__ import annotations

from types import SimpleNamespace

from pydantic import BaseModel, ConfigDict

from workflows.provenance import carries_tag, field_text, found_action, job_tag, untagged_action


class Declared(BaseModel):
    description: str | None = None


class Extra(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = "x"


def ctx(first_try: bool, job_id: str = "job-1") -> SimpleNamespace:
    return SimpleNamespace(first_try=first_try, job_id=job_id)


def test_field_text_each_shape() -> None:
    tag = job_tag("job-1")
    assert field_text({"description": tag}, "ap_group") == tag
    assert field_text(Declared(description=tag), "network") == tag
    assert field_text(Extra(description=tag), "identity_group") == tag
    # absent, null or not text: no tag
    assert field_text({}, "ap_group") == ""
    assert field_text(Declared(), "ap_group") == ""
    assert field_text(Extra(), "ap_group") == ""
    assert field_text({"description": 7}, "ap_group") == ""
    assert field_text(Extra(description=["x"]), "ap_group") == ""
    assert field_text(SimpleNamespace(), "ap_group") == ""  # any object, no model_extra


def test_found_action_needs_this_jobs_whole_tag() -> None:
    mine = Extra(description=f"venue AP group {job_tag('job-1')}")
    assert found_action(ctx(False), "ap_group", mine) == "created"
    assert found_action(ctx(True), "ap_group", mine) == "created"
    other = {"description": job_tag("job-10")}  # another job whose id extends ours
    assert not carries_tag(other, "ap_group", "job-1")
    assert found_action(ctx(False), "ap_group", other) == "reused"
    assert found_action(ctx(False), "ap_group", Declared()) == "reused"


def test_untaggable_found_on_retry_is_unknown() -> None:
    assert untagged_action(ctx(True)) == "reused"
    assert untagged_action(ctx(False)) == "unknown"
    assert found_action(ctx(False), "dpsk_pool", {}) == "unknown"
    assert found_action(ctx(True), "dpsk_pool", {}) == "reused"


def test_long_job_ids_are_tagged_by_digest() -> None:
    long_id = "j" * 41
    assert job_tag(long_id).startswith("phasegrid job #")
    assert len(job_tag(long_id)) == len("phasegrid job #") + 32
    assert job_tag("a b") != job_tag("a_b")
    assert job_tag("j" * 40) == "phasegrid job " + "j" * 40
    assert carries_tag({"description": job_tag(long_id)}, "network", long_id)
