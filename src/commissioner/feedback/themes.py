"""From the 50 NHS patient-experience labels (framework v6) to themes that fit council services.

The labelled data (``data/feedback/``) uses the Patient Experience Qualitative Data
Categorisation framework v6 (definitions:
https://the-strategy-unit.github.io/PatientExperience-QDC/framework/framework3.html).
Many of its labels are clinical or too fine for residents' feedback on council
services (home care, libraries, waste, housing, transport, day services...), so the
classifier learns the 15 themes below instead. Each NHS label maps to at most one
theme; ``None`` means the label says nothing about the topic of the comment
("Labelling not possible", "Not assigned") and is left out of theme training (the
comment still counts as a negative example for every theme).

Pure data and functions, no Django: a later feedback app reads ``THEMES`` for its
labels and ``LABEL_TO_THEME`` for the documentation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Theme key -> (short name shown to people, what it covers in a council service).
THEMES: dict[str, tuple[str, str]] = {
    "staff_attitude": ("Staff attitude", "kindness, politeness, respect, rudeness of the people delivering the service"),
    "staffing": ("Staffing and skills", "enough staff, quick response, the same people each time, skills and training"),
    "timeliness": ("Timeliness and waiting", "waiting times, delays, missed or late visits, speed of the service"),
    "communication": ("Communication and information", ("being told what happens, clear and consistent information, "
                      "talking with family and carers")),
    "listening": ("Listening and involvement", "being listened to, understood and involved in decisions"),
    "access_and_contact": ("Access and contact", ("getting through by phone or online, booking, opening hours, where "
                           "the service is, choice of services")),
    "assessment_and_referral": ("Assessment, referral and records", ("assessments, referrals and transfers between "
                                "services, care and support plans, case records")),
    "environment": ("Environment and facilities", "cleanliness, buildings, equipment, noise and comfort"),
    "daily_living": ("Food, activities and daily living", "meals, activities, outings, personal care and appearance"),
    "transport": ("Transport and parking", "getting to and from the service, transport provided, parking"),
    "safety": ("Safety and safeguarding", "feeling safe, safeguarding concerns, use of legal powers and rights"),
    "cost_and_funding": ("Cost and funding", "charges, funding, use of money"),
    "quality_of_service": ("Quality and outcome of the service", ("whether the service helped, how well it is "
                           "organised, medication and treatment in care settings")),
    "equality": ("Equality and inclusion", "fair treatment, accessibility, language, culture, disability"),
    "general": ("General experience", "praise or complaint with no specific topic"),
}

# Every label column of data/feedback/v6framework_230831.csv (in file order), with
# its theme and the reason. Counts of rows with the label in that file are in
# docs/feedback-model.md.
LABEL_TO_THEME: dict[str, str | None] = {
    # General: non-specific comments carry sentiment, not a topic.
    "Not assigned": None,  # the labeller found no label in the framework that fits: no topic
    "Organisation & efficiency": "quality_of_service",  # how well run the service is
    "Funding & use of financial resources": "cost_and_funding",
    # Staff
    "Staff manner & personal attributes": "staff_attitude",  # the core of "staff attitude"
    "Number & deployment of staff": "staffing",  # merged with responsiveness in framework v7
    "Staff responsiveness": "staffing",
    "Staff continuity": "staffing",  # "the same carer each time" matters in home care
    "Competence & training": "staffing",  # skills of the staff, kept with who and how many
    # Communication & involvement
    "Unspecified communication": "communication",
    "Staff listening, understanding & involving patients": "listening",  # "felt listened to" is its own question
    "Information directly from staff during care": "communication",
    "Information provision & guidance": "communication",
    "Being kept informed, clarity & consistency of information": "communication",
    # Access to care
    "Contacting services": "access_and_contact",
    "Appointment arrangements": "access_and_contact",  # booking, rearranging visits
    "Appointment method": "access_and_contact",  # phone, video, in person
    "Timeliness of care": "timeliness",
    # Clinical
    "Pain management": "quality_of_service",  # clinical: only the quality of care transfers
    # Patient journey: a council's assessments, referrals, transfers, plans and records
    "Diagnosis & triage": "assessment_and_referral",  # an assessment of need in council terms
    "Referals & continuity of care": "assessment_and_referral",  # (sic, the column's spelling)
    "Discharge": "assessment_and_referral",  # leaving a service, e.g. hospital to home care
    "Care plans": "assessment_and_referral",  # care and support plans (Care Act 2014)
    "Patient records": "assessment_and_referral",
    # Environment, equipment & catering
    "Cleanliness, tidiness & infection control": "environment",
    "Provision of medical equipment": "environment",  # equipment and adaptations
    # Location & transport
    "Service location": "access_and_contact",  # where the service is: part of being able to reach it
    "Transport to/ from services": "transport",
    "Parking": "transport",
    # Activities
    "Electronic entertainment": "daily_living",
    # General
    "Feeling safe": "safety",
    # Environment, equipment & catering
    "Patient appearance & grooming": "daily_living",  # personal care
    # Clinical
    "Mental Health Act": "safety",  # use of legal powers and people's rights (detention, DoLS for councils)
    # Other
    "Equality, Diversity & Inclusion": "equality",
    # Patient journey
    "Admission": "assessment_and_referral",  # starting a service
    # Clinical
    "Safeguarding concerns?": "safety",
    # General
    "Labelling not possible": None,  # empty, "did not answer" or unintelligible
    # Environment, equipment & catering
    "Environment & Facilities": "environment",
    # Clinical
    "Supplying & understanding medication": "quality_of_service",  # medication support in care settings
    # Activities
    "Activities & access to fresh air": "daily_living",
    # Environment, equipment & catering
    "Food & drink provision & facilities": "daily_living",  # meals in residential and day services
    "Sensory experience": "environment",  # noise, light, smell, comfort
    # Clinical
    "Impact of treatment/ care": "quality_of_service",  # did the service help
    "Psychological therapy arrangements": "quality_of_service",  # no rows in this file
    # Other
    "Existence of services": "access_and_contact",  # no rows in this file
    "Choice of services": "access_and_contact",  # no rows in this file
    "Out of hours support (community services)": "access_and_contact",  # no rows in this file
    "Learning organisation": "quality_of_service",  # learning from feedback; 1 row
    # Communication & involvement
    "Interaction with family/ carers": "communication",
    # General
    "Negative experience & dissatisfaction": "general",  # non-specific complaint
    "Positive experience & gratitude": "general",  # non-specific praise or thanks
}

THEME_KEYS: tuple[str, ...] = tuple(THEMES)


def theme_name(key: str) -> str:
    """The short name of a theme key (KeyError names the unknown key)."""
    return THEMES[key][0]


def themes_for_labels(labels: Iterable[str], mapping: Mapping[str, str | None] = LABEL_TO_THEME) -> tuple[str, ...]:
    """The themes (in THEME_KEYS order) of a comment with these NHS labels; an unknown label is an error."""
    found = set()
    for label in labels:
        if label not in mapping:
            raise KeyError(f"NHS label {label!r} has no entry in the theme mapping")
        theme = mapping[label]
        if theme is not None:
            found.add(theme)
    return tuple(k for k in THEME_KEYS if k in found)


def labels_for_theme(theme: str) -> tuple[str, ...]:
    """The NHS labels that map to a theme, in file order."""
    if theme not in THEMES:
        raise KeyError(f"unknown theme {theme!r}")
    return tuple(label for label, t in LABEL_TO_THEME.items() if t == theme)
