import { tauriApi } from "./api";
import { mount } from "./app";

mount(document.getElementById("app")!, tauriApi);
