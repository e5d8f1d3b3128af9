from pydantic import PostgresDsn
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOP_")

    database_url: PostgresDsn
    pricing_url: str
    secret_key: str
    debug: bool = False


settings = Settings()
