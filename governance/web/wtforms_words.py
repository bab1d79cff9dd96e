"""WTForms' own messages, for the catalogue: WTForms ships no Danish, so the forms take
these words from the app's catalogue (`forms._Catalogue`). Only marked for extraction
here; WTForms itself asks for them."""


def N_(message: str) -> str:
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    return singular


MESSAGES = (
    N_("This field is required."),
    N_("Not a valid choice."),
    N_("Invalid Choice: could not coerce."),
    N_("Invalid choice(s): one or more data inputs could not be coerced."),
    ngettext("'%(value)s' is not a valid choice for this field.",
             "'%(value)s' are not valid choices for this field.", 1),
    ngettext("Field cannot be longer than %(max)d character.",
             "Field cannot be longer than %(max)d characters.", 1),
    ngettext("Field must be at least %(min)d character long.",
             "Field must be at least %(min)d characters long.", 1),
    N_("Field must be between %(min)d and %(max)d characters long."),
    N_("Not a valid date value."),
    N_("Not a valid integer value."),
)
