package com.example.billing;

import java.util.UUID;
import org.springframework.security.access.prepost.PreAuthorize;
import org.springframework.web.bind.annotation.*;

@RestController
@RequestMapping("/admin")
@PreAuthorize("hasRole('ADMIN')")
public class AdminController {
    private final CustomerRepository customers;

    public AdminController(CustomerRepository customers) {
        this.customers = customers;
    }

    @DeleteMapping("/customers/{id}")
    public void delete(@PathVariable UUID id) {
        customers.softDelete(id);
    }
}
