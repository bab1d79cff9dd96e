"""Forms for the pages; limits come from the model and the policy, not from here."""
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class EmptyForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change state."""
