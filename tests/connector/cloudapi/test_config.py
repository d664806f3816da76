import pytest

from connector.cloudapi.config import ConfigError, WhatsAppConfig

ENV = {
    "WHATSAPP_VERIFY_TOKEN": "v", "WHATSAPP_APP_SECRET": "s", "WHATSAPP_ACCESS_TOKEN": "a",
    "WHATSAPP_PHONE_NUMBER_ID": "123",
}


def test_defaults_and_env():
    cfg = WhatsAppConfig.load(env=ENV)
    assert (cfg.api_version, cfg.graph_url) == ("v23.0", "https://graph.facebook.com")
    assert cfg.messages_url == "https://graph.facebook.com/v23.0/123/messages"


def test_repr_hides_secrets():
    cfg = WhatsAppConfig.load(env={**ENV, "WHATSAPP_APP_SECRET": "topsecret", "WHATSAPP_ACCESS_TOKEN": "EAAtoken"})
    assert "topsecret" not in repr(cfg) and "EAAtoken" not in repr(cfg)


def test_credentials_override_env_and_empty_override_falls_back():
    cfg = WhatsAppConfig.load({"graph_url": "http://127.0.0.1:5080/", "verify_token": ""}, env=ENV)
    assert cfg.graph_url == "http://127.0.0.1:5080"
    assert cfg.verify_token == "v"


@pytest.mark.parametrize("variable", sorted(ENV))
@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_setting_names_the_variable(variable, value):
    env = dict(ENV)
    if value is None:
        del env[variable]
    else:
        env[variable] = value
    with pytest.raises(ConfigError, match=variable):
        WhatsAppConfig.load(env=env)


@pytest.mark.parametrize("variable,value", [
    ("WHATSAPP_API_VERSION", "23.0"), ("WHATSAPP_API_VERSION", "v23"), ("WHATSAPP_API_VERSION", "latest"),
    ("WHATSAPP_GRAPH_URL", "graph.facebook.com"), ("WHATSAPP_GRAPH_URL", "ftp://x"),
    ("WHATSAPP_PHONE_NUMBER_ID", "+1 555"),
])
def test_unusable_setting_names_the_variable(variable, value):
    with pytest.raises(ConfigError, match=variable):
        WhatsAppConfig.load(env={**ENV, variable: value})


def test_unknown_credentials_key_is_an_error():
    with pytest.raises(ConfigError, match="secret"):
        WhatsAppConfig.load({"secret": "x"}, env=ENV)
