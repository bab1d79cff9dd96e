"""Forms for the pages; limits come from the model and the policy, not from here."""
import unicodedata

from flask_babel import get_translations, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm as _FlaskForm
from wtforms import (PasswordField, RadioField, SelectField, SelectMultipleField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from ..domain.vocabulary import unstorable
from ..services.passwords import MAX_LENGTH as MAX_PASSWORD


class _Catalogue:
    """WTForms' own messages ("Not a valid choice.") from the app's catalogue: WTForms
    ships no Danish. The messages are listed for extraction in `wtforms_words`."""

    def gettext(self, string):
        return get_translations().ugettext(string)

    def ngettext(self, singular, plural, n):
        return get_translations().ungettext(singular, plural, n)


_CATALOGUE = _Catalogue()


class FlaskForm(_FlaskForm):
    """Every form of the pages: WTForms' messages in the page's language, and text that the
    register cannot keep (a control character, a direction override in a name) refused on
    its field, as the API refuses it."""

    class Meta(_FlaskForm.Meta):
        def get_translations(self, form):
            return _CATALOGUE

    def validate(self, extra_validators=None) -> bool:
        for field in self:   # one spelling of æ, ø and å, as the seed and the API keep them
            if (isinstance(field, StringField) and not isinstance(field, PasswordField)
                    and isinstance(field.data, str)):   # a password is checked as typed
                field.data = unicodedata.normalize("NFC", field.data)
        valid = super().validate(extra_validators)
        for field in self:
            if (isinstance(field, StringField) and not isinstance(field, PasswordField)
                    and isinstance(field.data, str)):
                bad = unstorable(field.data, one_line=not isinstance(field, TextAreaField))
                if bad:
                    field.errors = [*field.errors, gettext(
                        "This holds a character that cannot be stored (%(char)s, a control "
                        "character, line break or direction mark): remove it", char=bad)]
                    valid = False
        for field in self:
            if field.errors:  # read out with the field, by the id `_fields.errors` gives them
                field.render_kw = {**(field.render_kw or {}), "aria-invalid": "true",
                                   "aria-describedby": f"{field.name}-error"}
        return valid


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_PASSWORD)])


class EmptyForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change state."""


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for a multiple choice."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RequestForm(FlaskForm):
    grantee = SelectField(_l("Who needs the access"), validators=[DataRequired()])
    system = SelectField(_l("System"), validators=[DataRequired()])
    access_level = RadioField(_l("Access level"), default="read",
                              choices=[("read", _l("Read access")),
                                       ("write", _l("Write access"))])
    scope = RadioField(_l("Scope"), default="summary",
                       choices=[("summary", _l("Summary data")),
                                ("detail", _l("Case detail"))])
    # The purpose policies in force; with only one, the form carries it unseen.
    purpose = SelectField(_l("Purpose (the policy the need falls under)"), choices=[])
    tasks = TextAreaField(_l("Concrete work tasks that need the access"),
                          validators=[Length(max=4000)])
    frequency = SelectField(_l("How often the need arises"), default="weekly", choices=[
        ("daily", _l("Daily")), ("weekly", _l("Weekly")), ("monthly", _l("Monthly")),
        ("quarterly", _l("Quarterly")), ("yearly", _l("Yearly")), ("once", _l("Once"))])
    data_categories = MultiCheckboxField(_l("Data needed"), choices=[])
    write_justification = TextAreaField(_l("Justification for write access or case detail"),
                                        validators=[Length(max=4000)])

    def as_input(self) -> dict:
        return {"grantee": self.grantee.data, "system": self.system.data,
                "access_level": self.access_level.data, "scope": self.scope.data,
                "purpose": self.purpose.data or "", "tasks": self.tasks.data or "",
                "frequency": self.frequency.data,
                "data_categories": list(self.data_categories.data or []),
                "write_justification": self.write_justification.data or ""}


class DecisionForm(FlaskForm):
    comment = TextAreaField(_l("Comment (required when rejecting)"),
                            validators=[Length(max=4000)])


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(_l("Give a reason for the revocation.")), Length(max=300)])


class EmployeeForm(FlaskForm):
    """An employee as the administrator keeps them; the service checks the values, as it
    does for the HR feed. Leaving has its own confirmed action, not a field here."""

    username = StringField(_l("Username (initials)"), validators=[
        DataRequired(_l("Write the username")), Length(max=64)])
    name = StringField(_l("Name"), validators=[DataRequired(_l("Write the name")),
                                               Length(max=200)])
    email = StringField(_l("E-mail"), validators=[DataRequired(_l("Write the e-mail address")),
                                                  Length(max=254)])
    # The service checks the centre and the roles, in words of its own (as for the HR feed).
    centre = SelectField(_l("Centre"), choices=[], validate_choice=False,
                         validators=[DataRequired(_l("Choose the centre"))])
    title = StringField(_l("Title"), validators=[Length(max=200)])
    roles = MultiCheckboxField(_l("Roles"), choices=[], validate_choice=False)

    def as_input(self, *, creating: bool) -> dict:
        values = {"name": self.name.data or "", "email": self.email.data or "",
                  "centre": self.centre.data or "", "title": self.title.data or "",
                  "roles": list(self.roles.data or [])}
        return {"username": (self.username.data or "").strip(), **values} if creating else values


class CentreForm(FlaskForm):
    """A centre: its code (fixed once made), name and manager."""

    code = StringField(_l("Code"), validators=[DataRequired(_l("Write the centre's code")),
                                               Length(max=20)])
    name = StringField(_l("Name"), validators=[DataRequired(_l("Write the name")),
                                               Length(max=200)])
    manager = SelectField(_l("Manager"), choices=[], validate_choice=False)  # the service checks

    def as_input(self, *, creating: bool) -> dict:
        values = {"name": self.name.data or "", "manager": self.manager.data or None}
        return {"code": (self.code.data or "").strip(), **values} if creating else values
