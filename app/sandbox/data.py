"""Deterministic made-up company data for the sandbox upstream.

`build_company(seed)` makes "Acme": three Jira projects (MOB, WEB, PLAT) with
about 300 issues, three GitHub repositories with about 250 issues and pull
requests, and GitHub Projects (v2) boards over some of those items. The same
seed always gives the same data; nothing here does I/O. Some groups are built
from fixed quotas rather than chance, so that the queries the demo and the
tests rely on match several items, some done and some not, whatever the seed.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

StatusCategoryKey = Literal["new", "indeterminate", "done"]
Deployment = Literal["cloud", "datacenter"]
ProjectItemType = Literal["ISSUE", "PULL_REQUEST", "DRAFT_ISSUE"]
OwnerType = Literal["organization", "user"]

DATA_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DATA_END = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
"""Every made-up timestamp falls between these two instants."""

FLOAT_FIELD = "com.atlassian.jira.plugin.system.customfieldtypes:float"
TEXT_FIELD = "com.atlassian.jira.plugin.system.customfieldtypes:textfield"


@dataclass(frozen=True)
class StatusCategory:
    """One of Jira's fixed status categories (ids and names as real Jira)."""

    id: int
    key: str
    name: str
    color_name: str


STATUS_CATEGORIES: dict[str, StatusCategory] = {
    "undefined": StatusCategory(1, "undefined", "No Category", "medium-gray"),
    "new": StatusCategory(2, "new", "To Do", "blue-gray"),
    "indeterminate": StatusCategory(4, "indeterminate", "In Progress", "yellow"),
    "done": StatusCategory(3, "done", "Done", "green"),
}


@dataclass(frozen=True)
class JiraStatus:
    """A workflow status; done-ness comes from its category, not its name."""

    id: str
    name: str
    category_key: StatusCategoryKey

    @property
    def category(self) -> StatusCategory:
        """The status category this status belongs to."""
        return STATUS_CATEGORIES[self.category_key]


@dataclass(frozen=True)
class JiraVersion:
    """A project version, as used in `fixVersions`."""

    id: str
    project: str
    name: str
    released: bool


@dataclass(frozen=True)
class JiraCustomField:
    """A custom field of one Jira deployment."""

    id: str
    name: str
    schema_type: Literal["number", "string"]
    custom_type: str

    @property
    def numeric_id(self) -> int:
        """The number in `customfield_NNNNN`, as JQL's `cf[NNNNN]` uses it."""
        return int(self.id.removeprefix("customfield_"))


CUSTOM_FIELDS: dict[Deployment, tuple[JiraCustomField, ...]] = {
    "cloud": (
        JiraCustomField("customfield_10016", "Story Points", "number", FLOAT_FIELD),
        JiraCustomField(
            "customfield_10026", "Story point estimate", "number", FLOAT_FIELD
        ),
        JiraCustomField("customfield_10045", "Team", "string", TEXT_FIELD),
    ),
    "datacenter": (
        JiraCustomField("customfield_10002", "Story Points", "number", FLOAT_FIELD),
        JiraCustomField(
            "customfield_10106", "Story point estimate", "number", FLOAT_FIELD
        ),
        JiraCustomField("customfield_10104", "Team", "string", TEXT_FIELD),
    ),
}
"""Story Points plus two decoys: a second numeric field and a text field."""


@dataclass(frozen=True)
class JiraIssue:
    """One Jira issue with the fields the sandbox serves."""

    key: str
    id: str
    project: str
    summary: str
    issuetype: str
    status: JiraStatus
    priority: str
    labels: list[str]
    fix_versions: list[str]
    story_points: float | None
    created: datetime
    updated: datetime

    @property
    def number(self) -> int:
        """The number after the dash in the key."""
        return int(self.key.rsplit("-", 1)[1])

    @property
    def done(self) -> bool:
        """Whether the status is in the done category."""
        return self.status.category_key == "done"

    @property
    def resolution(self) -> str | None:
        """Jira sets a resolution when an issue reaches a done status."""
        if not self.done:
            return None
        return "Won't Do" if self.status.name == "Won't Do" else "Done"


@dataclass(frozen=True)
class GitHubMilestone:
    """A milestone; its open/closed counts are derived from the items."""

    repo: str
    number: int
    title: str
    state: Literal["open", "closed"]
    description: str
    created_at: datetime = DATA_START
    due_on: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True)
class GitHubIssue:
    """An issue or a pull request (GitHub numbers both in one sequence)."""

    repo: str
    number: int
    title: str
    state: Literal["open", "closed"]
    is_pull_request: bool
    merged: bool
    labels: list[str]
    milestone_number: int | None
    created_at: datetime
    closed_at: datetime | None
    user: str = "acme-bot"
    state_reason: str | None = None

    @property
    def key(self) -> str:
        """`owner/repo#number`, the usual way to name an item."""
        return f"{self.repo}#{self.number}"

    @property
    def merged_at(self) -> datetime | None:
        """When a merged pull request was merged (its closing time)."""
        return self.closed_at if self.merged else None

    @property
    def updated_at(self) -> datetime:
        """Last change: the close, or a while after creation for open items."""
        if self.closed_at is not None:
            return self.closed_at
        return min(self.created_at + timedelta(days=3), DATA_END)


@dataclass(frozen=True)
class GitHubProjectField:
    """A field of a Projects (v2) board; single-select ones carry options."""

    id: str
    name: str
    data_type: str
    options: tuple[tuple[str, str], ...] = ()
    """(option id, option name) pairs, in the board's order."""

    def option_id(self, name: str) -> str | None:
        """The id of the option with this exact name, or None."""
        return next((oid for oid, oname in self.options if oname == name), None)


@dataclass(frozen=True)
class GitHubProjectItem:
    """A card on a board: an issue, a pull request or a draft issue."""

    id: str
    type: ProjectItemType
    title: str
    repo: str | None = None
    number: int | None = None
    status: str | None = None
    """The option chosen in the board's Status field, or None when unset."""
    notes: str | None = None
    archived: bool = False

    @property
    def key(self) -> str:
        """`acme/app#12`, `acme/app#13 (PR)` or `draft: <title>`."""
        if self.type == "DRAFT_ISSUE":
            return f"draft: {self.title}"
        key = f"{self.repo}#{self.number}"
        return f"{key} (PR)" if self.type == "PULL_REQUEST" else key


@dataclass(frozen=True)
class GitHubProject:
    """A Projects (v2) board of an organization or a user."""

    owner: str
    owner_type: OwnerType
    number: int
    title: str
    fields: tuple[GitHubProjectField, ...]
    items: tuple[GitHubProjectItem, ...]

    def field(self, name: str) -> GitHubProjectField | None:
        """The field with this exact name, or None."""
        return next((f for f in self.fields if f.name == name), None)


@dataclass
class Company:
    """All made-up data one sandbox serves."""

    jira_projects: dict[str, str]
    jira_statuses: list[JiraStatus]
    jira_issues: list[JiraIssue]
    story_points_field: dict[str, str]
    repos: list[str]
    milestones: list[GitHubMilestone]
    github_issues: list[GitHubIssue]
    jira_versions: list[JiraVersion] = field(default_factory=list)
    projects: list[GitHubProject] = field(default_factory=list)
    name: str = "Acme"
    seed: int = 7

    def project_id(self, key: str) -> str:
        """The numeric id Jira gives a project, as a string."""
        return str(10000 + list(self.jira_projects).index(key))

    def custom_fields(self, deployment: Deployment) -> tuple[JiraCustomField, ...]:
        """The custom fields of one deployment (ids differ between them)."""
        return CUSTOM_FIELDS[deployment]

    def jira_issue(self, key: str) -> JiraIssue | None:
        """The issue with this key (case-insensitive), or None."""
        wanted = key.upper()
        return next((i for i in self.jira_issues if i.key == wanted), None)

    def milestone(self, repo: str, number: int) -> GitHubMilestone | None:
        """The milestone of a repository by number, or None."""
        return next(
            (m for m in self.milestones if m.repo == repo and m.number == number),
            None,
        )

    def milestone_counts(self, repo: str, number: int) -> tuple[int, int]:
        """Open and closed items (issues and pull requests) in a milestone."""
        items = [
            item
            for item in self.github_issues
            if item.repo == repo and item.milestone_number == number
        ]
        closed = sum(1 for item in items if item.state == "closed")
        return len(items) - closed, closed

    def github_logins(self, owner_type: OwnerType) -> list[str]:
        """The organization or user logins GitHub knows in the sandbox."""
        if owner_type == "organization":
            orgs = {repo.split("/", 1)[0] for repo in self.repos}
            return sorted(
                orgs | {p.owner for p in self.projects if p.owner_type == owner_type}
            )
        users = {*GITHUB_USERS, "acme-bot"}
        return sorted(
            users | {p.owner for p in self.projects if p.owner_type == owner_type}
        )

    def project(
        self, owner: str, number: int, owner_type: OwnerType = "organization"
    ) -> GitHubProject | None:
        """A board by owner (case-insensitive, as GitHub logins are) and number."""
        wanted = owner.lower()
        return next(
            (
                p
                for p in self.projects
                if p.owner.lower() == wanted
                and p.owner_type == owner_type
                and p.number == number
            ),
            None,
        )


STATUSES = [
    JiraStatus("10000", "To Do", "new"),
    JiraStatus("10001", "Backlog", "new"),
    JiraStatus("3", "In Progress", "indeterminate"),
    JiraStatus("10002", "In Review", "indeterminate"),
    JiraStatus("10003", "Done", "done"),
    JiraStatus("10004", "Live", "done"),
    JiraStatus("10005", "Won't Do", "done"),
    JiraStatus("10006", "Готово", "done"),
    JiraStatus("10007", "Erledigt", "done"),
]

PROJECTS = {"MOB": "Mobile", "WEB": "Web", "PLAT": "Platform"}

# Each team's workflow: which statuses it uses, with how often each is seen.
WORKFLOWS: dict[str, dict[StatusCategoryKey, list[tuple[str, int]]]] = {
    "MOB": {
        "new": [("To Do", 3), ("Backlog", 1)],
        "indeterminate": [("In Progress", 3), ("In Review", 2)],
        "done": [("Done", 6), ("Live", 3), ("Won't Do", 1)],
    },
    "WEB": {
        "new": [("Backlog", 2), ("To Do", 2)],
        "indeterminate": [("In Progress", 1)],
        "done": [("Done", 3), ("Erledigt", 2), ("Won't Do", 1)],
    },
    "PLAT": {
        "new": [("To Do", 1)],
        "indeterminate": [("In Progress", 3), ("In Review", 1)],
        "done": [("Готово", 3), ("Done", 2)],
    },
}

VERSIONS = [
    JiraVersion("10100", "MOB", "2.0", True),
    JiraVersion("10101", "MOB", "2.1", False),
    JiraVersion("10102", "WEB", "Q4", False),
]

JIRA_LABELS = ["reliability", "perf", "security", "onboarding", "ux", "tech-debt"]
STORY_POINTS = [1.0, 2.0, 3.0, 5.0, 8.0, 13.0]
PRIORITIES = [("Highest", 1), ("High", 4), ("Medium", 10), ("Low", 4), ("Lowest", 1)]

JIRA_TOPICS = {
    "MOB": [
        "login screen",
        "offline mode",
        "push notifications",
        "checkout flow",
        "biometric sign-in",
        "app start time",
        "dark theme",
        "crash reporter",
        "deep links",
        "image cache",
    ],
    "WEB": [
        "pricing page",
        "signup form",
        "dashboard charts",
        "search box",
        "cookie banner",
        "invoice download",
        "password reset",
        "settings page",
        "onboarding tour",
        "accessibility audit",
    ],
    "PLAT": [
        "payment service",
        "message queue",
        "database failover",
        "rate limiter",
        "deploy pipeline",
        "log shipping",
        "backup job",
        "service mesh",
        "alerting rules",
        "cache cluster",
    ],
}
JIRA_VERBS = {
    "Story": ["Add", "Improve", "Redesign", "Support", "Simplify"],
    "Task": ["Update", "Migrate", "Document", "Clean up", "Review"],
    "Bug": ["Fix crash in", "Fix timeout in", "Fix layout of", "Fix errors in"],
    "Epic": ["Rebuild", "Launch", "Harden"],
}

REPOS = ["acme/app", "acme/api", "acme/web"]
GITHUB_USERS = ["dev-amber", "dev-basil", "dev-cedar", "dev-dune", "dev-ember"]
GITHUB_TOPICS = {
    "acme/app": ["onboarding", "settings", "sync", "widgets", "camera", "sharing"],
    "acme/api": ["auth tokens", "webhooks", "pagination", "billing", "exports"],
    "acme/web": ["landing page", "docs site", "blog", "status page", "forms"],
}


@dataclass
class _JiraDraft:
    project: str
    issuetype: str
    fix_versions: list[str]
    labels: list[str]
    done: bool
    created: datetime
    points_forced: bool = False


ItemSpec = tuple[bool, Literal["open", "closed"], bool, list[str]]
"""A fixed item: is it a pull request, its state, is it merged, its labels."""


@dataclass
class _GitHubDraft:
    repo: str
    is_pull_request: bool
    state: Literal["open", "closed"]
    merged: bool
    labels: list[str]
    milestone_number: int | None
    created_at: datetime


def build_company(seed: int = 7) -> Company:
    """Make the Acme company from a seed; the same seed gives the same data."""
    rng = random.Random(seed)

    jira_issues = _build_jira_issues(rng)
    milestones = _build_milestones()
    github_issues = _build_github_issues(rng)

    # Boards get their own stream, so adding them left every other item as it was.
    projects = _build_projects(random.Random(seed + 1000), github_issues)

    return Company(
        jira_projects=dict(PROJECTS),
        jira_statuses=list(STATUSES),
        jira_issues=jira_issues,
        story_points_field={
            "cloud": CUSTOM_FIELDS["cloud"][0].id,
            "datacenter": CUSTOM_FIELDS["datacenter"][0].id,
        },
        repos=list(REPOS),
        milestones=milestones,
        github_issues=github_issues,
        jira_versions=list(VERSIONS),
        projects=projects,
        seed=seed,
    )


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A random whole second between start and end."""
    span = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(span))


def _month(month: int, day: int = 1) -> datetime:
    return datetime(2026, month, day, 9, 0, tzinfo=UTC)


def _weighted(rng: random.Random, choices: Sequence[tuple[str, int]]) -> str:
    names = [name for name, _ in choices]
    weights = [weight for _, weight in choices]
    return rng.choices(names, weights=weights)[0]


def _issuetype(rng: random.Random) -> str:
    return _weighted(rng, [("Story", 11), ("Bug", 5), ("Task", 3), ("Epic", 1)])


def _jira_labels(rng: random.Random, favourite: str | None = None) -> list[str]:
    labels = set(rng.sample(JIRA_LABELS, rng.choice([0, 0, 1, 1, 1, 2])))
    if favourite is not None and rng.random() < 0.2:
        labels.add(favourite)
    return sorted(labels)


def _jira_group(
    rng: random.Random,
    project: str,
    count: int,
    *,
    done_share: float,
    window: tuple[datetime, datetime],
    fix_versions: list[str] | None = None,
    issuetype: str | None = None,
    label: str | None = None,
    forced: Sequence[bool] = (),
) -> list[_JiraDraft]:
    """Drafts for one group; the first len(forced) have a fixed done-ness."""
    drafts = []
    for index in range(count):
        done = forced[index] if index < len(forced) else rng.random() < done_share
        kind = issuetype or ("Story" if index < len(forced) else _issuetype(rng))
        labels = _jira_labels(rng, "reliability" if project == "PLAT" else None)
        if label is not None:
            labels = sorted({*labels, label})
        drafts.append(
            _JiraDraft(
                project=project,
                issuetype=kind,
                fix_versions=list(fix_versions or []),
                labels=labels,
                done=done,
                created=_moment(rng, *window),
                points_forced=index < len(forced) and kind == "Story",
            )
        )
    return drafts


def _jira_drafts(rng: random.Random) -> list[_JiraDraft]:
    """The plan of every issue, with quotas that keep the demo queries useful."""
    done_then_open = [True, True, True, True, False, False, False]
    early = (_month(1, 5), _month(6))
    late = (_month(5), _month(11, 20))
    whole = (DATA_START, _month(11, 20))

    drafts = [
        *_jira_group(
            rng, "MOB", 40, done_share=0.85, window=early, fix_versions=["2.0"]
        ),
        *_jira_group(
            rng,
            "MOB",
            8,
            done_share=0.5,
            window=early,
            fix_versions=["2.0"],
            forced=done_then_open,
        ),
        *_jira_group(rng, "MOB", 30, done_share=0.3, window=late, fix_versions=["2.1"]),
        *_jira_group(rng, "MOB", 32, done_share=0.45, window=whole),
        *_jira_group(rng, "WEB", 30, done_share=0.45, window=late, fix_versions=["Q4"]),
        *_jira_group(
            rng,
            "WEB",
            8,
            done_share=0.5,
            window=whole,
            issuetype="Bug",
            forced=[True, True, True, False, False, False, False, False],
        ),
        *_jira_group(rng, "WEB", 62, done_share=0.5, window=whole),
        *_jira_group(
            rng,
            "PLAT",
            10,
            done_share=0.5,
            window=whole,
            label="reliability",
            forced=done_then_open,
        ),
        *_jira_group(rng, "PLAT", 80, done_share=0.5, window=whole),
    ]
    return drafts


def _story_points(rng: random.Random, draft: _JiraDraft) -> float | None:
    chance = {"Story": 0.85, "Task": 0.3, "Bug": 0.2, "Epic": 0.0}[draft.issuetype]
    if draft.points_forced or rng.random() < chance:
        return rng.choices(STORY_POINTS, weights=[3, 5, 6, 5, 3, 1])[0]
    return None


def _status(rng: random.Random, project: str, done: bool) -> JiraStatus:
    workflow = WORKFLOWS[project]
    if done:
        category: StatusCategoryKey = "done"
    else:
        category = "new" if rng.random() < 0.45 else "indeterminate"
    name = _weighted(rng, workflow[category])
    return next(s for s in STATUSES if s.name == name)


def _jira_summary(rng: random.Random, project: str, issuetype: str) -> str:
    verb = rng.choice(JIRA_VERBS[issuetype])
    topic = rng.choice(JIRA_TOPICS[project])
    return f"{verb} {topic}"


def _build_jira_issues(rng: random.Random) -> list[JiraIssue]:
    drafts = sorted(_jira_drafts(rng), key=lambda d: d.created)
    numbers = dict.fromkeys(PROJECTS, 0)
    issues = []
    for index, draft in enumerate(drafts):
        numbers[draft.project] += 1
        updated = draft.created + timedelta(seconds=rng.randrange(1, 60 * 86400))
        issues.append(
            JiraIssue(
                key=f"{draft.project}-{numbers[draft.project]}",
                id=str(10000 + index),
                project=draft.project,
                summary=_jira_summary(rng, draft.project, draft.issuetype),
                issuetype=draft.issuetype,
                status=_status(rng, draft.project, draft.done),
                priority=_weighted(rng, PRIORITIES),
                labels=draft.labels,
                fix_versions=draft.fix_versions,
                story_points=_story_points(rng, draft),
                created=draft.created,
                updated=min(updated, DATA_END),
            )
        )
    return issues


def _build_milestones() -> list[GitHubMilestone]:
    return [
        GitHubMilestone(
            "acme/app",
            1,
            "v2.0",
            "open",
            "The 2.0 release: new onboarding and offline sync.",
            created_at=_month(1, 12),
            due_on=_month(7, 1),
        ),
        GitHubMilestone(
            "acme/app",
            2,
            "v2.1",
            "open",
            "Follow-up fixes and widgets.",
            created_at=_month(5, 4),
            due_on=_month(12, 15),
        ),
        GitHubMilestone(
            "acme/app",
            3,
            "v3.0 planning",
            "open",
            "Ideas for the next major version; nothing scheduled yet.",
            created_at=_month(10, 20),
        ),
        GitHubMilestone(
            "acme/api",
            1,
            "2026-Q4 hardening",
            "open",
            "Reliability and performance work for the fourth quarter.",
            created_at=_month(9, 28),
            due_on=_month(12, 31),
        ),
        GitHubMilestone(
            "acme/web",
            1,
            "v1.0 launch",
            "closed",
            "The public launch of the new website.",
            created_at=_month(1, 20),
            due_on=_month(4, 1),
            closed_at=_month(4, 3),
        ),
    ]


def _github_labels(rng: random.Random, is_pull_request: bool) -> list[str]:
    labels = set()
    if is_pull_request:
        for name, chance in (("perf", 0.2), ("enhancement", 0.25), ("bug", 0.2)):
            if rng.random() < chance:
                labels.add(name)
        return sorted(labels)
    priority = rng.random()
    if priority < 0.15:
        labels.add("P1")
    elif priority < 0.4:
        labels.add("P2")
    for name, chance in (("bug", 0.35), ("perf", 0.15), ("enhancement", 0.3)):
        if rng.random() < chance:
            labels.add(name)
    return sorted(labels)


def _github_group(
    rng: random.Random,
    repo: str,
    count: int,
    *,
    closed_share: float,
    window: tuple[datetime, datetime],
    milestone: int | None = None,
) -> list[_GitHubDraft]:
    drafts = []
    for _ in range(count):
        is_pr = rng.random() < 0.4
        closed = rng.random() < closed_share
        drafts.append(
            _GitHubDraft(
                repo=repo,
                is_pull_request=is_pr,
                state="closed" if closed else "open",
                merged=is_pr and closed and rng.random() < 0.85,
                labels=_github_labels(rng, is_pr),
                milestone_number=milestone,
                created_at=_moment(rng, *window),
            )
        )
    return drafts


def _github_fixed(
    rng: random.Random,
    repo: str,
    specs: Sequence[ItemSpec],
    *,
    window: tuple[datetime, datetime],
    milestone: int | None = None,
) -> list[_GitHubDraft]:
    """Drafts whose kind, state, merge and labels are fixed by `specs`."""
    return [
        _GitHubDraft(
            repo=repo,
            is_pull_request=is_pr,
            state=state,
            merged=merged,
            labels=list(labels),
            milestone_number=milestone,
            created_at=_moment(rng, *window),
        )
        for is_pr, state, merged, labels in specs
    ]


def _github_drafts(rng: random.Random) -> list[_GitHubDraft]:
    """The plan of every item, with quotas that keep the demo queries useful."""
    whole = (DATA_START, _month(11, 20))
    v20 = (_month(1, 12), _month(6, 20))
    v21 = (_month(5, 4), _month(11, 20))
    q4 = (_month(9, 28), _month(11, 20))
    launch = (_month(1, 20), _month(3, 25))
    p1_open: list[ItemSpec] = [
        (False, "open", False, ["P1", *extra]) for extra in ([], ["bug"])
    ]
    merged_perf: ItemSpec = (True, "closed", True, ["perf"])
    perf_prs: list[ItemSpec] = [merged_perf] * 4 + [
        (True, "closed", False, ["perf"]),
        (True, "open", False, ["perf", "enhancement"]),
    ]
    v20_mix: list[ItemSpec] = [
        (False, "closed", False, ["enhancement"]),
        (True, "closed", True, []),
        (False, "open", False, ["bug"]),
    ]

    return [
        *_github_group(rng, "acme/app", 30, closed_share=0.9, window=v20, milestone=1),
        *_github_fixed(rng, "acme/app", v20_mix, window=v20, milestone=1),
        *_github_group(rng, "acme/app", 20, closed_share=0.25, window=v21, milestone=2),
        *_github_fixed(rng, "acme/app", p1_open * 2, window=v21, milestone=2),
        *_github_fixed(rng, "acme/app", p1_open, window=whole),
        *_github_group(rng, "acme/app", 41, closed_share=0.55, window=whole),
        *_github_group(rng, "acme/api", 22, closed_share=0.5, window=q4, milestone=1),
        *_github_fixed(rng, "acme/api", perf_prs, window=q4, milestone=1),
        *_github_fixed(rng, "acme/api", perf_prs[:2], window=whole),
        *_github_group(rng, "acme/api", 50, closed_share=0.6, window=whole),
        *_github_group(
            rng, "acme/web", 15, closed_share=1.0, window=launch, milestone=1
        ),
        *_github_group(rng, "acme/web", 55, closed_share=0.5, window=whole),
    ]


def _github_title(rng: random.Random, repo: str, is_pull_request: bool) -> str:
    topic = rng.choice(GITHUB_TOPICS[repo])
    if is_pull_request:
        verb = rng.choice(["Add", "Refactor", "Speed up", "Fix", "Tidy"])
        return f"{verb} {topic}"
    problem = rng.choice(["is slow", "fails on retry", "needs a redesign", "breaks"])
    return f"{topic.capitalize()} {problem}"


def _closed_at(rng: random.Random, draft: _GitHubDraft) -> datetime | None:
    if draft.state == "open":
        return None
    closed = draft.created_at + timedelta(seconds=rng.randrange(3600, 30 * 86400))
    return min(closed, DATA_END)


def _state_reason(rng: random.Random, draft: _GitHubDraft) -> str | None:
    if draft.is_pull_request or draft.state == "open":
        return None
    return "not_planned" if rng.random() < 0.1 else "completed"


def _build_github_issues(rng: random.Random) -> list[GitHubIssue]:
    drafts = sorted(_github_drafts(rng), key=lambda d: (d.repo, d.created_at))
    numbers = dict.fromkeys(REPOS, 0)
    items = []
    for draft in drafts:
        numbers[draft.repo] += 1
        items.append(
            GitHubIssue(
                repo=draft.repo,
                number=numbers[draft.repo],
                title=_github_title(rng, draft.repo, draft.is_pull_request),
                state=draft.state,
                is_pull_request=draft.is_pull_request,
                merged=draft.merged,
                labels=draft.labels,
                milestone_number=draft.milestone_number,
                created_at=draft.created_at,
                closed_at=_closed_at(rng, draft),
                user=rng.choice(GITHUB_USERS),
                state_reason=_state_reason(rng, draft),
            )
        )
    return items


# Projects (v2) ------------------------------------------------------------

PROJECT_STATUSES = ("Todo", "In Progress", "Done", "Shipped")
PROJECT_NOTES = ["Blocked on API review", "Needs design input", "Pair with QA"]
DRAFT_TITLES = [
    "Write the 2.1 release notes",
    "Plan the Q4 load test",
    "Decide on the widget API",
    "Collect beta feedback",
    "Draft the status page copy",
]
PERSONAL_DRAFTS = [
    ("Read the GraphQL paging docs", "Done"),
    ("Review the sync dashboard", "In Progress"),
    ("Try the new Projects board", None),
    ("Tidy the demo mapping", "Todo"),
]


def _project_fields(prefix: int) -> tuple[GitHubProjectField, ...]:
    """The usual board fields: the built-in ones, Status and a text field."""

    def option(name: str) -> tuple[str, str]:
        # GitHub option ids are 8 hex digits; derive them so they never change.
        return hashlib.sha256(f"{prefix}:{name}".encode()).hexdigest()[:8], name

    return (
        GitHubProjectField(f"PVTF_{prefix}1", "Title", "TITLE"),
        GitHubProjectField(f"PVTF_{prefix}2", "Assignees", "ASSIGNEES"),
        GitHubProjectField(
            f"PVTSSF_{prefix}1",
            "Status",
            "SINGLE_SELECT",
            tuple(option(name) for name in PROJECT_STATUSES),
        ),
        GitHubProjectField(f"PVTF_{prefix}3", "Labels", "LABELS"),
        GitHubProjectField(f"PVTF_{prefix}4", "Repository", "REPOSITORY"),
        GitHubProjectField(f"PVTF_{prefix}5", "Milestone", "MILESTONE"),
        GitHubProjectField(f"PVTF_{prefix}6", "Notes", "TEXT"),
    )


def _item_status(rng: random.Random, item: GitHubIssue) -> str:
    if item.state == "closed":
        return "Shipped" if item.merged and rng.random() < 0.5 else "Done"
    return rng.choice(["Todo", "In Progress"])


def _build_projects(
    rng: random.Random, github_issues: Sequence[GitHubIssue]
) -> list[GitHubProject]:
    """Acme's "Q4 Roadmap" board and one personal board.

    The roadmap holds the v2.1 and Q4-hardening milestone items, a few open
    web issues and some draft issues. Closed items are Done or Shipped, open
    ones Todo or In Progress; three open items have no status at all and
    three done ones are archived.
    """
    picked = [
        item
        for item in github_issues
        if (item.repo, item.milestone_number) in {("acme/app", 2), ("acme/api", 1)}
    ]
    web_open = [i for i in github_issues if i.repo == "acme/web" and i.state == "open"]
    picked += rng.sample(web_open, 4)
    picked.sort(key=lambda item: item.created_at)

    statuses: list[str | None] = [_item_status(rng, item) for item in picked]
    open_at = [n for n, item in enumerate(picked) if item.state == "open"]
    for index in rng.sample(open_at, 3):
        statuses[index] = None
    done_at = [n for n, status in enumerate(statuses) if status in ("Done", "Shipped")]
    archived = set(rng.sample(done_at, 3))

    items = [
        GitHubProjectItem(
            id=f"PVTI_1{index:03d}",
            type="PULL_REQUEST" if item.is_pull_request else "ISSUE",
            title=item.title,
            repo=item.repo,
            number=item.number,
            status=statuses[index],
            notes=rng.choice(PROJECT_NOTES) if rng.random() < 0.15 else None,
            archived=index in archived,
        )
        for index, item in enumerate(picked)
    ]
    for offset, title in enumerate(DRAFT_TITLES):
        status = [None, "Todo", "In Progress", "Todo", "Done"][offset]
        draft = GitHubProjectItem(
            f"PVTI_1{len(picked) + offset:03d}", "DRAFT_ISSUE", title, status=status
        )
        items.insert(rng.randrange(len(items) + 1), draft)

    personal = tuple(
        GitHubProjectItem(f"PVTI_2{n:03d}", "DRAFT_ISSUE", title, status=status)
        for n, (title, status) in enumerate(PERSONAL_DRAFTS)
    )
    return [
        GitHubProject(
            "acme", "organization", 1, "Q4 Roadmap", _project_fields(1), tuple(items)
        ),
        GitHubProject(
            "dev-amber", "user", 1, "Amber's tasks", _project_fields(2), personal
        ),
    ]
