"""Plain-text views of the promoter's API answers for ``ringrift models`` (``--json`` skips them)."""

from __future__ import annotations

from typing import Any


def render(action: str, answer: Any) -> str:
    """The text ``ringrift models ACTION`` prints for the API's ``answer``."""
    if action == "status":
        statuses = answer if isinstance(answer, list) else [answer]
        return "\n\n".join(status(item) for item in statuses) or "no config has events yet"
    if action == "list":
        return model_list(answer)
    if action == "show":
        return details(answer)
    return result(answer)


def status(item: dict[str, Any]) -> str:
    current = item.get("current")
    lines = [f"{item['config_key']}: current {_model(current)} (revision {item['revision']})"]
    candidate, evaluation = item.get("latest_candidate"), item.get("latest_evaluation")
    lines.append(f"  latest candidate:  {_model(candidate)}"
                 + (f" [{candidate['state']}]" if candidate else ""))
    if evaluation:
        lines.append(f"  latest evaluation: {evaluation['evaluation_id']} of "
                     f"{evaluation['model_id']}: {evaluation['decision'] or 'undecided'}"
                     f" ({evaluation['summary'] or evaluation['method']})")
    else:
        lines.append("  latest evaluation: none")
    for stage in item["stages"]:
        lines.append(f"  {stage['stage']:<17} last produced {_ago(stage['seconds_since'])}")
    counts = ", ".join(f"{state} {count}" for state, count in item["models_by_state"].items())
    lines.append(f"  models: {counts or 'none'}")
    return "\n".join(lines)


def model_list(answer: dict[str, Any]) -> str:
    lines = [f"{answer['config_key']}: current {answer['current_model_id'] or 'none'} "
             f"(revision {answer['revision']})",
             f"{'model':30} {'state':12} {'rating':>22} {'step':>9} parent"]
    for model in answer["models"]:
        lines.append(f"{model['model_id']:30} {model['state']:12} {_rating(model['rating']):>22} "
                     f"{model['train_step']:>9} {model['parent_model_id'] or '-'}")
    return "\n".join(lines)


def details(model: dict[str, Any]) -> str:
    lines = [f"{model['model_id']} ({model['config_key']}): {model['state']}"
             + (" — current" if model["current"] else ""),
             f"  rating {_rating(model['rating'])}, {model['architecture']}, "
             f"step {model['train_step']}, {model['samples_seen']} samples seen",
             f"  weights {model['weights']['uri']} ({model['weights']['size_bytes']} bytes)",
             f"  lineage: {' <- '.join([model['model_id'], *model['lineage']])}",
             f"  children: {', '.join(model['children']) or 'none'}", "  history:"]
    for change in model["history"]:
        lines.append(f"    {change['at'][:19]} {change['from_state'] or '-':>11} -> "
                     f"{change['to_state']:<11} by {change['actor']}: {change['reason']}")
    for evaluation in model["evaluations"]:
        lines.append(f"  evaluation {evaluation['evaluation_id']}: passed {evaluation['passed']}"
                     f", {evaluation['decision'] or 'undecided'} ({evaluation['summary']})")
    return "\n".join(lines)


def result(answer: dict[str, Any]) -> str:
    lines = [f"{answer['config_key']}: current model {answer['current_model_id']} "
             f"(revision {answer['revision']})"]
    lines += [f"  {change['model_id']}: {change['from_state']} -> {change['to_state']}"
              for change in answer["transitions"]]
    return "\n".join(lines)


def _model(model: dict[str, Any] | None) -> str:
    return f"{model['model_id']} rated {_rating(model['rating'])}" if model else "none"


def _rating(rating: dict[str, Any] | None) -> str:
    if not rating:
        return "unrated"
    interval = (f" [{rating['lower']:.0f}, {rating['upper']:.0f}]"
                if rating.get("lower") is not None and rating.get("upper") is not None else "")
    return f"{rating['value']:.0f}{interval}"


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit} ago"
    return f"{seconds:.0f} s ago"
