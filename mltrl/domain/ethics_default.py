"""Default ethics checklist: the questions every project answers and the organisation's positions.

``DEFAULT_ETHICS_TEMPLATE`` has three parts:

* ``"before"``    -- questions a project answers before development starts, as
                     ``(key, question, help)`` triples;
* ``"after"``     -- questions a project answers once the system is built, each with a paragraph,
                     also as ``(key, question, help)`` triples;
* ``"positions"`` -- the organisation's standing positions, short policy statements that hold for
                     every project, as ``(key, statement)`` pairs.

Keys are short slugs, stable and unique within their part, so recorded answers survive edits to
the wording. MLTRL asks that every gated review run through an ethics checklist the organisation
defines; this is the starting point an organisation adapts. The wording is this project's own.

Pure data: no imports beyond ``__future__``.
"""

from __future__ import annotations

DEFAULT_ETHICS_TEMPLATE: dict = {
    "before": (
        (
            "data-ownership",
            (
                "Who owns each dataset we plan to use, and do we hold the right to use it for this "
                "purpose?"
            ),
            (
                "Name the owner of every source and the licence, contract or agreement that covers "
                "this use. Permission given for one purpose does not carry over to another by "
                "default."
            ),
        ),
        (
            "data-collection",
            (
                "How will the data be gathered, and would the people it describes recognise and "
                "accept that way of gathering it?"
            ),
            (
                "Describe the method (forms, sensors, logs, scraping, purchase from a broker) and "
                "who does it. If you would be uncomfortable explaining the method to those people, "
                "rethink it."
            ),
        ),
        (
            "data-storage",
            "Where will the data live, who can reach it, and when will it be deleted?",
            (
                "Give the system and region, the access controls and encryption, and a retention "
                "period with a deletion date or trigger. 'Kept indefinitely' needs a reason."
            ),
        ),
        (
            "legal-constraints",
            (
                "Which laws, regulations, contracts or sector rules limit what we may do with this "
                "data or this model?"
            ),
            (
                "Think of data protection law, sector rules (health, finance, employment), "
                "intellectual property and export controls. Say who confirmed the list and when."
            ),
        ),
        (
            "personal-data",
            (
                "Does the data contain personal or sensitive information, and could the work be "
                "done with less of it?"
            ),
            (
                "List the personal and sensitive fields. Consider dropping, aggregating or "
                "pseudonymising them, or using synthetic data for early levels."
            ),
        ),
        (
            "consent",
            (
                "Have the people in the data agreed to this use, and if consent is not the basis, "
                "what is?"
            ),
            (
                "Record the basis for each source and how it is evidenced. Say how someone can "
                "withdraw and what then happens to their data and to models trained on it."
            ),
        ),
        (
            "third-parties",
            (
                "Who besides our users could be affected by the system, and have any of them been "
                "consulted?"
            ),
            (
                "Think of people the system makes decisions about, bystanders in the data, workers "
                "whose jobs change, and communities affected in aggregate. Note who was asked and "
                "what they said."
            ),
        ),
        (
            "second-order-effects",
            (
                "What could follow if the system works as intended, if it fails, or if it is used "
                "in ways we did not plan?"
            ),
            (
                "Go beyond the direct use: changed behaviour, feedback loops, displacement, and "
                "foreseeable misuse by others. Name the worst plausible outcome and its "
                "likelihood."
            ),
        ),
        (
            "honest-reporting",
            (
                "How will we report results, limits and harms honestly, including results that "
                "disappoint?"
            ),
            (
                "Fix the metrics and test sets before seeing results, report negative findings as "
                "readily as positive ones, and say who will hear about harms and how."
            ),
        ),
        (
            "stop-conditions",
            "What finding would make us pause, change course or stop the project?",
            (
                "Write the conditions down now, before there is pressure to continue. A review "
                "that meets one of them should act on it rather than reinterpret it."
            ),
        ),
    ),
    "after": (
        (
            "legal-compliance",
            (
                "Does the system as built comply with the laws and rules identified before "
                "development, and with any that have changed since?"
            ),
            (
                "Walk through each constraint from the 'before' answers and say how the built "
                "system meets it. Name the compliance or legal reviewer and the date of their "
                "sign-off."
            ),
        ),
        (
            "attack-and-abuse",
            "How could someone attack or misuse the system, and what protects against it?",
            (
                "Cover poisoned training data, crafted inputs, extraction of the model or its "
                "training data, and misuse of outputs by legitimate users. Describe the defences "
                "and what is left uncovered."
            ),
        ),
        (
            "representative-data",
            (
                "Does the training and evaluation data fairly represent the people and situations "
                "the system will meet in use?"
            ),
            (
                "Compare the data's make-up with the population served, by the attributes that "
                "matter for this use. Say which groups or conditions are thin or missing and what "
                "was done about it."
            ),
        ),
        (
            "bias-sources",
            "Where could bias have entered the system, and what was done about each source?",
            (
                "Consider how the data was collected and labelled, features that stand in for "
                "protected attributes, historical patterns in the data, and feedback loops once "
                "deployed."
            ),
        ),
        (
            "consent-in-use",
            (
                "Is every dataset the system now uses covered by the consent or other basis "
                "recorded before development, including data added since?"
            ),
            (
                "Check each source against the 'before' answers. Data added during development "
                "without a recorded basis is a finding, not a detail."
            ),
        ),
        (
            "redress",
            (
                "How can a person affected by the system learn that it was involved, challenge the "
                "outcome and have it corrected?"
            ),
            (
                "Describe the route, who handles requests and in what time. If there is no route, "
                "say why the effects on people are small enough not to need one."
            ),
        ),
        (
            "shutdown",
            (
                "Can the system be switched off or rolled back quickly, who may decide that, and "
                "what happens to the work it was doing?"
            ),
            (
                "Name the people with the authority, the technical steps and how long they take, "
                "and the fallback process. Say when the shutdown path was last tried."
            ),
        ),
        (
            "error-disparity",
            (
                "Have error rates been measured separately for the relevant groups, and are the "
                "differences justified or reduced?"
            ),
            (
                "Report the rates per group for the errors that matter most in this use, such as "
                "false positives for a screening tool. Explain any remaining gap and who accepted "
                "it."
            ),
        ),
        (
            "drift-monitoring",
            (
                "How will we notice when the data or the world has shifted enough that the model's "
                "accuracy or fairness no longer holds?"
            ),
            (
                "Describe what is monitored, per group where relevant, the thresholds and who is "
                "alerted. Say what happens when a threshold is crossed."
            ),
        ),
        (
            "data-protection",
            "How is personal data protected in the running system, and what happens if it leaks?",
            (
                "Cover access control, encryption, logging of access, retention and deletion, and "
                "the breach response plan with its contacts."
            ),
        ),
        (
            "communicating-changes",
            (
                "How will users and affected people be told when the model or its behaviour "
                "changes in a way that matters to them?"
            ),
            (
                "Say what counts as a material change, the channel used and how far in advance. "
                "Quiet changes to a system people rely on erode their trust."
            ),
        ),
        (
            "harms-found",
            (
                "What harms, failures or near misses did development reveal, and to whom were they "
                "reported?"
            ),
            (
                "List them with what was done about each. An empty answer should be checked: most "
                "projects find something."
            ),
        ),
    ),
    "positions": (
        (
            "data-rights",
            (
                "We do not use data we lack a clear right to use, nor data obtained by misleading "
                "the people it describes."
            ),
        ),
        (
            "data-minimisation",
            (
                "We collect and keep only the personal data a task needs, and use sensitive "
                "categories such as health, ethnicity or biometrics only with a documented legal "
                "basis and the ethics lead's approval."
            ),
        ),
        (
            "prohibited-uses",
            (
                "We do not build systems meant to watch people covertly, to manipulate them "
                "against their own interests, or to make decisions with serious effects on a "
                "person without a human able to review them."
            ),
        ),
        (
            "harm-reporting",
            (
                "Anyone may report a suspected harm without blame; reports go to the ethics lead, "
                "are logged and answered within an agreed time, and serious ones are raised at the "
                "next gated review."
            ),
        ),
        (
            "accountable-owner",
            (
                "Every deployed system has a named owner who answers for it and has the authority "
                "to halt it."
            ),
        ),
        (
            "honest-claims",
            (
                "We state performance, limits and known failures as our tests show them, to "
                "colleagues and customers alike, and never claim more."
            ),
        ),
        (
            "review-every-level",
            (
                "The ethics checklist is revisited at every gated review, because the people "
                "involved and the intended use change as a technology matures."
            ),
        ),
        (
            "external-components",
            (
                "Models and datasets from outside the organisation pass the same ethics checks as "
                "our own before they are used."
            ),
        ),
    ),
}
