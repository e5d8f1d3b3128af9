from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="API_")

    database_url: str
    jwt_secret: str
    notify_url: str
    allowed_origins: list[str]


settings = Settings()
