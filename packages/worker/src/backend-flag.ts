import { backendRequests } from '@gradsync/core/backend';

/** Values of --backend (see DESIGN.md "Backends"). */
export const BACKEND_CHOICES = backendRequests as readonly string[];
